"""Text generation with Hugging Face transformers causal language models."""
