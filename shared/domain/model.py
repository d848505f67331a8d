"""The base of every Opslayer pydantic model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model whose validator and serializer are built on first use, not when its module is
    imported: a Lambda imports many models (through the repository and the use cases) and uses a few, and
    building them all was a third of a cold start. Subclasses' `model_config` adds to this one."""

    model_config = ConfigDict(defer_build=True)
