//! What a normalizer [`Action`] counts as in `siogate_normalizations_total`
//! (the `kind` label), for the proxied session that carries it out.
use super::normalize::{Action, reason};
use crate::metrics::NormalizeKind;
use crate::protocol::socketio::PacketKind;

/// What an action counts as in `siogate_normalizations_total` (None for
/// plain relaying: EVENT/ACK packets passed through with their namespace).
pub(super) fn normalize_kind(action: &Action) -> Option<NormalizeKind> {
    Some(match action {
        Action::OpenLeg { .. } => NormalizeKind::LegOpen,
        Action::CloseLeg { .. } => NormalizeKind::LegClose,
        Action::CloseClient { .. } => NormalizeKind::ClientClose,
        Action::ToUpstream { msg, .. } if msg.packet.kind == PacketKind::Connect => {
            NormalizeKind::ConnectUpstream
        }
        Action::ToClient { msg } => match msg.packet.kind {
            PacketKind::Connect => NormalizeKind::ConnectReply,
            PacketKind::ConnectError => NormalizeKind::ConnectError,
            PacketKind::Disconnect => NormalizeKind::Disconnect,
            _ => return None,
        },
        Action::Drop { reason } => drop_kind(reason),
        Action::ToUpstream { .. } => return None,
    })
}

fn drop_kind(why: &str) -> NormalizeKind {
    match why {
        reason::PRE_CONNECT => NormalizeKind::DropPreConnect,
        reason::RESERVED_EVENT => NormalizeKind::DropReservedEvent,
        reason::UNKNOWN_UPSTREAM_NSP
        | reason::UNKNOWN_CLIENT_NSP
        | reason::UNKNOWN_DISCONNECT
        | reason::NOT_CONNECTED => NormalizeKind::DropUnknownNamespace,
        reason::DUPLICATE_REPLY | reason::DUPLICATE_CONNECT => NormalizeKind::DropDuplicate,
        _ => NormalizeKind::DropOther,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_counted_by_kind() {
        assert_eq!(
            drop_kind(reason::PRE_CONNECT),
            NormalizeKind::DropPreConnect
        );
        assert_eq!(
            drop_kind(reason::NOT_CONNECTED),
            NormalizeKind::DropUnknownNamespace
        );
        assert_eq!(drop_kind(reason::CLOSED_LEG), NormalizeKind::DropOther);
        let close = Action::CloseClient {
            reason: reason::UPSTREAM_CLOSED,
        };
        assert_eq!(normalize_kind(&close), Some(NormalizeKind::ClientClose));
    }
}
