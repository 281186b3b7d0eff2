"""The worker runtime: claiming jobs, running generators, storing outputs, sweeping."""
