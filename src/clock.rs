//! The server's clock. Nothing else in vlsim reads the system clock: core functions take
//! `now` from here, so tests (and the admin API) can move time instead of sleeping.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;

/// System time plus a controllable offset, or a frozen instant.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
    frozen: AtomicBool,
    frozen_at_ms: AtomicI64,
}

pub type SharedClock = Arc<Clock>;

impl Clock {
    pub fn new() -> SharedClock {
        Arc::new(Self::default())
    }

    #[allow(clippy::disallowed_methods)] // the one place that reads the real clock
    fn system_ms() -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
    }

    /// Milliseconds since the Unix epoch, as this server sees them.
    pub fn now_ms(&self) -> i64 {
        if self.frozen.load(Ordering::Acquire) {
            return self.frozen_at_ms.load(Ordering::Acquire);
        }
        Self::system_ms().saturating_add(self.offset_ms.load(Ordering::Acquire))
    }

    /// Whole seconds since the Unix epoch (JWT `iat`/`exp` granularity).
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    pub fn now(&self) -> OffsetDateTime {
        datetime_from_ms(self.now_ms())
    }

    /// Moves the clock forward (or back, with a negative value) by `seconds`.
    pub fn advance(&self, seconds: i64) {
        let delta = seconds.saturating_mul(1000);
        if self.frozen.load(Ordering::Acquire) {
            self.frozen_at_ms.fetch_add(delta, Ordering::AcqRel);
        } else {
            self.offset_ms.fetch_add(delta, Ordering::AcqRel);
        }
    }

    /// Sets the clock to `at_ms`; it keeps ticking from there unless `freeze` is set.
    pub fn set(&self, at_ms: i64, freeze: bool) {
        if freeze {
            self.frozen_at_ms.store(at_ms, Ordering::Release);
            self.frozen.store(true, Ordering::Release);
        } else {
            self.frozen.store(false, Ordering::Release);
            self.offset_ms
                .store(at_ms.saturating_sub(Self::system_ms()), Ordering::Release);
        }
    }

    /// Back to real time.
    pub fn reset(&self) {
        self.frozen.store(false, Ordering::Release);
        self.offset_ms.store(0, Ordering::Release);
    }

    pub fn offset_ms(&self) -> i64 {
        if self.frozen.load(Ordering::Acquire) {
            self.frozen_at_ms.load(Ordering::Acquire) - Self::system_ms()
        } else {
            self.offset_ms.load(Ordering::Acquire)
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::Acquire)
    }

    /// The setting to persist: the offset, or the frozen instant.
    pub fn state(&self) -> ClockState {
        if self.is_frozen() {
            ClockState {
                offset_ms: 0,
                frozen_at_ms: Some(self.frozen_at_ms.load(Ordering::Acquire)),
            }
        } else {
            ClockState {
                offset_ms: self.offset_ms.load(Ordering::Acquire),
                frozen_at_ms: None,
            }
        }
    }

    /// Applies a persisted setting.
    pub fn restore(&self, state: ClockState) {
        match state.frozen_at_ms {
            Some(at) => self.set(at, true),
            None => {
                self.frozen.store(false, Ordering::Release);
                self.offset_ms.store(state.offset_ms, Ordering::Release);
            }
        }
    }
}

/// What is persisted of the clock: real time plus `offset_ms`, or stood still at
/// `frozen_at_ms`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClockState {
    pub offset_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen_at_ms: Option<i64>,
}

pub fn datetime_from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-01-01T12:00:00Z` (xsd:dateTime / RFC 3339, second precision, UTC).
pub fn rfc3339_secs(secs: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut out = String::with_capacity(20);
    push_datetime(&mut out, dt);
    out.push('Z');
    out
}

/// `YYYY-MM-DDTHH:MM:SS` written digit by digit: these stamps are on every event and
/// token reply, and `format!` with padding costs several times as much.
fn push_datetime(out: &mut String, dt: OffsetDateTime) {
    let year = dt.year();
    if (0..=9999).contains(&year) {
        push_digits(out, year.unsigned_abs(), 4);
    } else {
        out.push_str(&format!("{year:04}"));
    }
    out.push('-');
    push_digits(out, u32::from(u8::from(dt.month())), 2);
    out.push('-');
    push_digits(out, u32::from(dt.day()), 2);
    out.push('T');
    push_digits(out, u32::from(dt.hour()), 2);
    out.push(':');
    push_digits(out, u32::from(dt.minute()), 2);
    out.push(':');
    push_digits(out, u32::from(dt.second()), 2);
}

/// The last `width` decimal digits of `n`, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (n / 10u32.pow(place)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// RFC 3339 with milliseconds, for event times.
pub fn rfc3339_ms(ms: i64) -> String {
    let dt = datetime_from_ms(ms);
    let mut out = String::with_capacity(24);
    push_datetime(&mut out, dt);
    out.push('.');
    push_digits(&mut out, u32::from(dt.millisecond()), 3);
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_and_freeze() {
        let clock = Clock::new();
        clock.set(1_700_000_000_000, true);
        assert_eq!(clock.now_secs(), 1_700_000_000);
        clock.advance(90);
        assert_eq!(clock.now_secs(), 1_700_000_090);
        assert_eq!(rfc3339_secs(clock.now_secs()), "2023-11-14T22:14:50Z");
        clock.reset();
        assert!(clock.now_secs() > 1_700_000_090);
    }

    #[test]
    fn stamps_match_the_formatted_dates() {
        use time::format_description::well_known::Rfc3339;
        for secs in [
            0,
            59,
            86_399,
            951_782_400,
            1_700_000_000,
            4_102_444_799,
            253_402_300_799,
        ] {
            let dt = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            assert_eq!(rfc3339_secs(secs), dt.format(&Rfc3339).unwrap(), "{secs}");
            let ms = secs * 1000 + 7;
            let expected = format!(
                "{}.007Z",
                dt.format(&Rfc3339).unwrap().trim_end_matches('Z')
            );
            assert_eq!(rfc3339_ms(ms), expected, "{ms}");
        }
    }
}
