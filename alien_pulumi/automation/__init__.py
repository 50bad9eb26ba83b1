"""One Pulumi run against one deployment: workspace, engine, credentials, events, health."""
