"""What a template, generator or asset produces."""

from django.db import models


class Modality(models.TextChoices):
    """What a template or generator produces."""

    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"
