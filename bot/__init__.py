"""The chat side: command grammar, dispatch, the job queue, workers, and Slack/terminal I/O."""
