"""Projects, members, prompt templates, generation jobs and assets."""
