"""Checks each photo uploaded to the photos bucket (S3 "Object Created" on the default EventBridge bus)."""

from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.photos import check_upload


@lambda_entry(requires=("photos_bucket",))
def lambda_handler(event, context):
    detail = event.get("detail") or {}
    key = (detail.get("object") or {}).get("key")
    bucket = (detail.get("bucket") or {}).get("name")
    svc = services()  # our keys are [A-Za-z0-9_-/] only: nothing to URL-decode
    if not key or bucket != svc.settings.photos_bucket:
        logger.warning("not an upload to the photos bucket", extra={"detail_type": event.get("detail-type")})
        return {"outcome": "ignored"}
    outcome = check_upload(svc, svc.photo_store(), key)
    bind(work_order_id=key.split("/")[1] if key.count("/") >= 2 else None)
    logger.info("photo checked", extra={"outcome": outcome})
    return {"outcome": outcome}
