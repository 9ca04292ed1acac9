//! Decimal formatting of lengths and ack ids without `format!` or allocation,
//! shared by both codecs.

/// Writes the ASCII decimal digits of `n` into `buf` and returns them.
pub(crate) fn digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_zero_and_the_largest_u64() {
        let mut b = [0; 20];
        assert_eq!(super::digits(0, &mut b), b"0");
        assert_eq!(super::digits(u64::MAX, &mut b), b"18446744073709551615");
    }
}
