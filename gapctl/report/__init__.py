"""Reports a government office can publish: Markdown, rendered to self-contained HTML."""
