//! The building blocks of the registry: a [`Label`] is a fieldless enum
//! whose values are known at compile time, and a metric family with labels
//! is a flat array of atomics indexed by the label value(s). Counting is a
//! relaxed `fetch_add` on one array slot: no lock, no allocation, no hashing.
//!
//! Families with two labels take a tuple `(A, B)`; the slot is
//! `a * B::VALUES.len() + b`.
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A label whose values are fixed at compile time (a fieldless enum).
pub trait Label: Copy + 'static {
    /// The label name in the exposition (`reason`, `transport`, …).
    const NAME: &'static str;
    /// Every value, in the order of [`Label::index`].
    const VALUES: &'static [&'static str];
    /// This value's position in [`Label::VALUES`].
    fn index(self) -> usize;
}

/// One or two labels: what a family is indexed by.
pub trait LabelSet: Copy + 'static {
    /// Number of distinct label combinations (slots).
    const SLOTS: usize;
    /// This combination's slot.
    fn slot(self) -> usize;
    /// Writes the `name="value",…` pairs of `slot` (no braces).
    fn write_pairs(slot: usize, out: &mut String);
}

impl<L: Label> LabelSet for L {
    const SLOTS: usize = L::VALUES.len();
    fn slot(self) -> usize {
        self.index()
    }
    fn write_pairs(slot: usize, out: &mut String) {
        let _ = write!(out, "{}=\"{}\"", L::NAME, L::VALUES[slot]);
    }
}

impl<A: Label, B: Label> LabelSet for (A, B) {
    const SLOTS: usize = A::VALUES.len() * B::VALUES.len();
    fn slot(self) -> usize {
        self.0.index() * B::VALUES.len() + self.1.index()
    }
    fn write_pairs(slot: usize, out: &mut String) {
        let n = B::VALUES.len();
        A::write_pairs(slot / n, out);
        out.push(',');
        B::write_pairs(slot % n, out);
    }
}

/// A monotonically increasing count without labels.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down, without labels.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn dec(&self) {
        self.add(-1);
    }

    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counters indexed by a [`LabelSet`]; every combination is exported (a
/// zero is a useful sample: it says the event is possible and has not
/// happened).
#[derive(Debug)]
pub struct CounterVec<L: LabelSet> {
    slots: Box<[AtomicU64]>,
    _labels: std::marker::PhantomData<L>,
}

impl<L: LabelSet> Default for CounterVec<L> {
    fn default() -> Self {
        CounterVec {
            slots: (0..L::SLOTS).map(|_| AtomicU64::new(0)).collect(),
            _labels: std::marker::PhantomData,
        }
    }
}

impl<L: LabelSet> CounterVec<L> {
    pub fn inc(&self, labels: L) {
        self.add(labels, 1);
    }

    pub fn add(&self, labels: L, n: u64) {
        self.slots[labels.slot()].fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self, labels: L) -> u64 {
        self.slots[labels.slot()].load(Ordering::Relaxed)
    }

    /// Every slot's value, in slot order.
    pub(super) fn values(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, v)| (i, v.load(Ordering::Relaxed)))
    }
}

/// Gauges indexed by a [`LabelSet`].
#[derive(Debug)]
pub struct GaugeVec<L: LabelSet> {
    slots: Box<[AtomicI64]>,
    _labels: std::marker::PhantomData<L>,
}

impl<L: LabelSet> Default for GaugeVec<L> {
    fn default() -> Self {
        GaugeVec {
            slots: (0..L::SLOTS).map(|_| AtomicI64::new(0)).collect(),
            _labels: std::marker::PhantomData,
        }
    }
}

impl<L: LabelSet> GaugeVec<L> {
    pub fn inc(&self, labels: L) {
        self.add(labels, 1);
    }

    pub fn dec(&self, labels: L) {
        self.add(labels, -1);
    }

    pub fn add(&self, labels: L, n: i64) {
        self.slots[labels.slot()].fetch_add(n, Ordering::Relaxed);
    }

    pub fn set(&self, labels: L, v: i64) {
        self.slots[labels.slot()].store(v, Ordering::Relaxed);
    }

    pub fn get(&self, labels: L) -> i64 {
        self.slots[labels.slot()].load(Ordering::Relaxed)
    }

    pub(super) fn values(&self) -> impl Iterator<Item = (usize, i64)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, v)| (i, v.load(Ordering::Relaxed)))
    }
}

/// Defines a fieldless enum implementing [`Label`]:
/// `label!(Name, "label_name", { Variant => "value", … })`.
macro_rules! label {
    ($(#[$doc:meta])* $name:ident, $label:literal, { $($(#[$vdoc:meta])* $variant:ident => $value:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $crate::metrics::family::Label for $name {
            const NAME: &'static str = $label;
            const VALUES: &'static [&'static str] = &[$($value),+];
            fn index(self) -> usize {
                self as usize
            }
        }

        impl $name {
            /// The value as exported.
            pub fn as_str(self) -> &'static str {
                <Self as $crate::metrics::family::Label>::VALUES[self as usize]
            }
        }
    };
}
pub(crate) use label;

#[cfg(test)]
mod tests {
    use super::*;

    label!(Color, "color", { Red => "red", Green => "green", Blue => "blue" });
    label!(Side, "side", { In => "in", Out => "out" });

    #[test]
    fn two_labels_map_to_distinct_slots_and_back() {
        let v: CounterVec<(Color, Side)> = CounterVec::default();
        v.inc((Color::Blue, Side::Out));
        v.add((Color::Red, Side::In), 3);
        assert_eq!(v.get((Color::Blue, Side::Out)), 1);
        assert_eq!(v.get((Color::Blue, Side::In)), 0);
        assert_eq!(v.get((Color::Red, Side::In)), 3);
        let mut pairs = Vec::new();
        for (slot, n) in v.values().filter(|(_, n)| *n > 0) {
            let mut s = String::new();
            <(Color, Side)>::write_pairs(slot, &mut s);
            pairs.push((s, n));
        }
        assert_eq!(
            pairs,
            [
                ("color=\"red\",side=\"in\"".to_string(), 3),
                ("color=\"blue\",side=\"out\"".to_string(), 1)
            ]
        );
        assert_eq!(Color::Green.as_str(), "green");
        assert_eq!(Side::Out.as_str(), "out");
    }

    #[test]
    fn gauges_go_up_and_down() {
        let g: GaugeVec<Side> = GaugeVec::default();
        g.inc(Side::In);
        g.inc(Side::In);
        g.dec(Side::In);
        g.set(Side::Out, -4);
        assert_eq!((g.get(Side::In), g.get(Side::Out)), (1, -4));
    }
}
