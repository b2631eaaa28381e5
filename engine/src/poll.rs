//! WASI's `poll_oneoff`, bounded by the cell's deadline.
//!
//! `poll_oneoff` is the one WASI call that can block for as long as the
//! guest asks: RustPython's native `time.sleep` (reachable by re-importing
//! `time`), `select`-style waits and clock subscriptions all end up here,
//! in a host call that no epoch can interrupt. The wrapper runs
//! wasmtime-wasi's own implementation under a timeout at the cell's
//! deadline. When the deadline comes first, it reports every clock
//! subscription as fired (the guest sees its sleep end early) and marks the
//! cell timed out; the deadline callback then interrupts the guest at its
//! next instruction.
//!
//! A plain sleep (one relative clock subscription) is slept here, up to the
//! deadline, without calling wasmtime-wasi: since file operations may block
//! the sandbox's thread (`allow_blocking_current_thread`), wasmtime-wasi
//! would sleep it with `std::thread::sleep` for the whole timeout, which no
//! timeout around the call can cut short.
//!
//! The other WASI calls do not wait on anything the guest controls: stdin
//! is empty, there are no sockets, and file operations on the two
//! directories complete (FIFOs cannot be created in them).

use crate::bridge::memory;
use crate::state::SandboxState;
use crate::wasi::with_wasi;
use std::time::Duration;
use wasmtime::{Caller, Linker};
use wasmtime_wasi::p1::wasi_snapshot_preview1 as p1;

/// Size of a preview1 `subscription`.
const SUBSCRIPTION_BYTES: u32 = 48;
/// Size of a preview1 `event`.
const EVENT_BYTES: u32 = 32;
/// `eventtype::clock`.
const EVENTTYPE_CLOCK: u8 = 0;
/// `subclockflags::subscription_clock_abstime`.
const SUBCLOCKFLAGS_ABSTIME: u16 = 1;
/// WASI errno `inval`.
const ERRNO_INVAL: i32 = 28;
/// WASI errno `intr`.
const ERRNO_INTR: i32 = 27;
/// Stands for "the deadline came first" (errnos are never negative).
const TIMED_OUT: i32 = -1;
/// Most subscriptions one call may pass (wasi-libc uses one per fd polled).
const MAX_SUBSCRIPTIONS: u32 = 4096;

/// Shadows WASI's `poll_oneoff` with the deadline-bounded version.
pub(crate) fn add_to_linker(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "poll_oneoff",
        |mut caller: Caller<'_, SandboxState>, subs: i32, events: i32, nsubs: i32, nevents: i32| {
            if nsubs as u32 > MAX_SUBSCRIPTIONS {
                return Ok(ERRNO_INVAL);
            }
            if let Some(timeout) = lone_relative_sleep(&caller, subs as u32, nsubs as u32) {
                // Never handed to wasmtime-wasi (see the module docs).
                caller.data_mut().cell.sleep(timeout);
                return Ok(fire_clocks(
                    &mut caller,
                    subs as u32,
                    events as u32,
                    nsubs as u32,
                    nevents as u32,
                ));
            }
            let deadline = caller.data().cell.soft_deadline;
            let finished = with_wasi(&mut caller, |wasi, memory| {
                wasmtime_wasi::runtime::in_tokio(async {
                    match tokio::time::timeout_at(
                        deadline.into(),
                        p1::poll_oneoff(wasi, memory, subs, events, nsubs, nevents),
                    )
                    .await
                    {
                        Ok(result) => result.map(Some),
                        Err(_elapsed) => Ok(None),
                    }
                })
                .map(|r| r.unwrap_or(TIMED_OUT))
            });
            let code = finished?;
            if code != TIMED_OUT {
                return Ok(code);
            }
            caller.data_mut().cell.timed_out = true;
            Ok(fire_clocks(
                &mut caller,
                subs as u32,
                events as u32,
                nsubs as u32,
                nevents as u32,
            ))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The timeout of a call that subscribes to one relative clock and nothing
/// else: a plain sleep.
fn lone_relative_sleep(
    caller: &Caller<'_, SandboxState>,
    subs: u32,
    nsubs: u32,
) -> Option<Duration> {
    if nsubs != 1 {
        return None;
    }
    let mem = caller.data().memory?;
    relative_clock(memory::read(mem.data(caller), subs, SUBSCRIPTION_BYTES).ok()?)
}

/// A preview1 `subscription`'s timeout, when it is a relative clock:
/// `userdata` u64 at 0, the event type u8 at 8, then the clock's id u32 at
/// 16, `timeout` u64 at 24, `precision` u64 at 32 and `flags` u16 at 40.
fn relative_clock(sub: &[u8]) -> Option<Duration> {
    if sub.len() < SUBSCRIPTION_BYTES as usize || sub[8] != EVENTTYPE_CLOCK {
        return None;
    }
    let flags = u16::from_le_bytes([sub[40], sub[41]]);
    if flags & SUBCLOCKFLAGS_ABSTIME != 0 {
        return None;
    }
    let nanos = u64::from_le_bytes(sub[24..32].try_into().ok()?);
    Some(Duration::from_nanos(nanos))
}

/// Writes a fired event for each clock subscription; returns the errno.
fn fire_clocks(
    caller: &mut Caller<'_, SandboxState>,
    subs: u32,
    events: u32,
    nsubs: u32,
    nevents: u32,
) -> i32 {
    let Some(mem) = caller.data().memory else {
        return ERRNO_INTR;
    };
    let data = mem.data_mut(caller);
    let mut written = 0u32;
    for i in 0..nsubs {
        let at = subs.wrapping_add(i.wrapping_mul(SUBSCRIPTION_BYTES));
        let Ok(sub) = memory::read(data, at, SUBSCRIPTION_BYTES) else {
            return ERRNO_INVAL;
        };
        if sub[8] != EVENTTYPE_CLOCK {
            continue;
        }
        let mut event = [0u8; EVENT_BYTES as usize];
        event[..8].copy_from_slice(&sub[..8]);
        event[10] = EVENTTYPE_CLOCK;
        let to = events.wrapping_add(written.wrapping_mul(EVENT_BYTES));
        if memory::write(data, to, &event).is_err() {
            return ERRNO_INVAL;
        }
        written += 1;
    }
    if written == 0 {
        return ERRNO_INTR;
    }
    if memory::write(data, nevents, &written.to_le_bytes()).is_err() {
        return ERRNO_INVAL;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(eventtype: u8, timeout_ns: u64, flags: u16) -> [u8; 48] {
        let mut sub = [0u8; 48];
        sub[..8].copy_from_slice(&7u64.to_le_bytes());
        sub[8] = eventtype;
        sub[16..20].copy_from_slice(&1u32.to_le_bytes());
        sub[24..32].copy_from_slice(&timeout_ns.to_le_bytes());
        sub[40..42].copy_from_slice(&flags.to_le_bytes());
        sub
    }

    #[test]
    fn reads_a_relative_clock_subscription() {
        assert_eq!(
            relative_clock(&subscription(EVENTTYPE_CLOCK, 1_500_000, 0)),
            Some(Duration::from_micros(1500))
        );
        assert_eq!(
            relative_clock(&subscription(EVENTTYPE_CLOCK, u64::MAX, 0)),
            Some(Duration::from_nanos(u64::MAX))
        );
    }

    #[test]
    fn leaves_absolute_clocks_and_descriptors_to_wasmtime_wasi() {
        assert_eq!(
            relative_clock(&subscription(EVENTTYPE_CLOCK, 5, SUBCLOCKFLAGS_ABSTIME)),
            None
        );
        // `eventtype::fd_read`, `fd_write`.
        assert_eq!(relative_clock(&subscription(1, 5, 0)), None);
        assert_eq!(relative_clock(&subscription(2, 5, 0)), None);
        assert_eq!(relative_clock(&[0u8; 40]), None);
    }
}
