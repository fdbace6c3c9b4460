"""What the batch reads: archives and directories, expanded safely into a spool."""
