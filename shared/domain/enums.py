"""Vocabulary shared by the triage rules, the work order and the vendor directory."""

from enum import StrEnum

WORK_ORDER_ID = r"wo-[0-9a-f]{11,24}"  # how a work-order id is found in a subject, a key or a text


class Trade(StrEnum):
    PLUMBING = "plumbing"
    ELECTRICAL = "electrical"
    HVAC = "hvac"
    APPLIANCE = "appliance"
    LOCKSMITH = "locksmith"
    PEST = "pest"
    ROOFING = "roofing"
    GENERAL = "general"


class Priority(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"
