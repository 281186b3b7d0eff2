"""Generation models, one module per concept, re-exported here: the job (the outbox row a
worker claims, runs and finishes) and the model registry."""

from assay.generation.models.jobs import GenerationJob
from assay.generation.models.registry import ModelSource, RegisteredModel

__all__ = ("GenerationJob", "ModelSource", "RegisteredModel")
