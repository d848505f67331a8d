from datetime import UTC, datetime, timedelta

from shared.domain.sensors import SensorAlert, already_recorded

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def leak(ts: datetime) -> SensorAlert:
    return SensorAlert(sensor_id="leak-1", type="leak", severity="high", ts=ts)


def test_an_alert_no_newer_than_the_last_recorded_is_already_recorded():
    assert not already_recorded(leak(AT), None)
    assert already_recorded(leak(AT), AT)  # the same alert, redelivered
    assert already_recorded(leak(AT - timedelta(seconds=1)), AT)  # a stale copy arriving late
    assert not already_recorded(leak(AT + timedelta(seconds=1)), AT)
    assert already_recorded(leak(AT.replace(tzinfo=None)), AT)  # a sensor clock without a zone is UTC
