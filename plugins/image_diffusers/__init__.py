"""Image generation (text-to-image and image-to-image) with Hugging Face diffusers pipelines."""
