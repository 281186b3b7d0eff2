"""Action codes the generation app records: jobs and the model registry.

Job events keep their ``studio.generation.*`` codes from before the job moved here, so
filters over the whole log (``action=studio.generation.*``) still find every job event."""

from assay.audit.registry import register

register("studio.generation.submitted", "Generation submitted", "A generation job was queued.")
register("studio.generation.started", "Generation started", "A worker claimed the job.")
register("studio.generation.succeeded", "Generation succeeded", "The job stored its outputs.")
register("studio.generation.failed", "Generation failed", "The job ended with an error.")
register("studio.generation.cancel_requested", "Cancellation requested",
         "A user asked to cancel a running job; the worker stops at the next step.")
register("studio.generation.cancelled", "Generation cancelled", "The job was cancelled.")
register("studio.generation.requeued", "Generation re-sent",
         "The sweeper sent a queued or abandoned job to the broker again.")
register("studio.generation.released", "Generation handed back",
         "A worker told to stop handed the running job back to the queue, for another "
         "worker to run at once.")
register("generation.scaler.granted", "Autoscaler access granted",
         "The read-only database role the autoscaler counts jobs with may read the "
         "queue-depth view.")
register("generation.models.built", "Demo models built", "Local demo models were built.")
register("generation.model.registered", "Model registered",
         "A model was registered or re-pinned in the model registry.")
