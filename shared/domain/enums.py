"""Vocabulary shared by the triage rules, the work order and the vendor directory."""

from enum import StrEnum


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
