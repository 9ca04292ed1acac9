//! The cluster-wide operations of the Redis adapter: requests to the other
//! nodes of a namespace and the gathering of their answers, counted against
//! `PUBSUB NUMSUB` of the namespace's request channel (every node serving
//! the namespace subscribes it, this one included).
use std::collections::BTreeMap;
use std::time::Duration;

use super::redis::{Shared, targets};
use super::{AckOutcome, AdapterError, BroadcastOptions, SocketInfo};
use crate::cluster::wire::request::{self, Request, RequestType, Response};
use crate::cluster::wire::{SioPacket, Targets};
use crate::standalone::codec::EventPayload;

impl Shared {
    /// Sends `req` to the other nodes of `nsp` and feeds each answer to
    /// `fold` until it returns true or every node answered. Returns false
    /// when the deadline came first.
    pub(super) async fn gather(
        &self,
        nsp: &str,
        mut req: Request,
        mut fold: impl FnMut(Response) -> bool,
    ) -> Result<bool, AdapterError> {
        let link = self.link()?;
        self.ensure_nsp(nsp).await?;
        let ch = self.channels(nsp);
        // This node is one of the request channel's subscribers.
        let expected = link.numsub(ch.request()).await?.saturating_sub(1);
        if expected == 0 {
            return Ok(true);
        }
        let mut waiter = self.pending.open();
        req.request_id = Some(waiter.id.clone());
        let msg = request::encode_request(&req)
            .map_err(|e| AdapterError::Unavailable(format!("cannot encode for Redis: {e}")))?;
        link.publish(ch.request(), msg).await?;
        let deadline = tokio::time::Instant::now() + self.opts.request_timeout;
        for _ in 0..expected {
            let Some(answer) = waiter.next_until(deadline).await else {
                return Ok(false);
            };
            if fold(answer) {
                break;
            }
        }
        Ok(true)
    }

    /// Join, leave or disconnect: here first, then on the other nodes.
    pub(super) async fn apply(
        &self,
        opts: BroadcastOptions,
        req: Request,
        local: impl FnOnce(&BroadcastOptions) -> usize,
    ) -> Result<usize, AdapterError> {
        self.link()?;
        let mut n = local(&opts);
        if opts.socket.is_some() && n > 0 {
            return Ok(n);
        }
        let one_socket = opts.socket.is_some();
        let complete = self
            .gather(&opts.nsp, req, |answer| {
                n += answer.count.unwrap_or(0) as usize;
                one_socket && n > 0
            })
            .await?;
        if !complete {
            tracing::debug!(nsp = %opts.nsp, "some nodes did not answer in time");
        }
        Ok(n)
    }

    pub(super) async fn fetch(
        &self,
        opts: BroadcastOptions,
    ) -> Result<Vec<SocketInfo>, AdapterError> {
        let mut all = self.local.list(&opts);
        let req = Request::new(RequestType::RemoteFetch, &self.uid, None, targets(&opts));
        let complete = self
            .gather(&opts.nsp, req, |answer| {
                let sockets = answer.sockets.unwrap_or_default();
                all.extend(sockets.into_iter().map(|s| {
                    let mut rooms: Vec<String> =
                        s.rooms.into_iter().filter(|r| *r != s.id).collect();
                    rooms.sort_unstable();
                    SocketInfo { id: s.id, rooms }
                }));
                false
            })
            .await?;
        if !complete {
            return Err(AdapterError::Timeout);
        }
        all.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        all.dedup_by(|a, b| a.id == b.id);
        Ok(all)
    }

    pub(super) async fn emit_with_ack(
        &self,
        opts: BroadcastOptions,
        payload: EventPayload,
        timeout: Duration,
    ) -> Result<AckOutcome, AdapterError> {
        if opts.socket.is_none() {
            return Ok(AckOutcome::NoSocket);
        }
        if let Some(socket) = self.local.targets(&opts).into_iter().next() {
            return Ok(socket.emit_with_ack(&payload, timeout).await);
        }
        let link = self.link()?;
        self.ensure_nsp(&opts.nsp).await?;
        let ch = self.channels(&opts.nsp);
        let expected = link.numsub(ch.request()).await?.saturating_sub(1);
        if expected == 0 {
            return Ok(AckOutcome::NoSocket);
        }
        let mut waiter = self.pending.open();
        let mut req = Request::new(
            RequestType::Broadcast,
            &self.uid,
            Some(waiter.id.clone()),
            targets(&opts),
        );
        let packet = payload.packet(&opts.nsp, None);
        req.packet = Some(SioPacket {
            text: packet.text,
            attachments: packet.attachments,
        });
        req.timeout_ms = Some(timeout.as_millis().try_into().unwrap_or(u64::MAX));
        let msg = request::encode_request(&req)
            .map_err(|e| AdapterError::Unavailable(format!("cannot encode for Redis: {e}")))?;
        link.publish(ch.request(), msg).await?;
        let deadline = tokio::time::Instant::now() + timeout;
        let (mut counts, mut clients) = (0usize, 0u64);
        while let Some(answer) = waiter.next_until(deadline).await {
            match answer.kind {
                Some(RequestType::BroadcastAck) => return Ok(AckOutcome::Acked(answer.ack_args)),
                Some(RequestType::BroadcastClientCount) => {
                    counts += 1;
                    clients += answer.client_count.unwrap_or(0);
                    if counts == expected && clients == 0 {
                        return Ok(AckOutcome::NoSocket);
                    }
                }
                _ => {}
            }
        }
        Ok(if clients > 0 {
            AckOutcome::TimedOut
        } else {
            AckOutcome::NoSocket
        })
    }

    pub(super) async fn rooms(&self, nsp: String) -> Result<BTreeMap<String, usize>, AdapterError> {
        let mut sizes = self.local.room_sizes(&nsp);
        let req = Request::new(
            RequestType::RemoteFetch,
            &self.uid,
            None,
            Targets::default(),
        );
        let complete = self
            .gather(&nsp, req, |answer| {
                for s in answer.sockets.unwrap_or_default() {
                    for room in s.rooms.into_iter().filter(|r| *r != s.id) {
                        *sizes.entry(room).or_default() += 1;
                    }
                }
                false
            })
            .await?;
        if !complete {
            return Err(AdapterError::Timeout);
        }
        Ok(sizes)
    }
}
