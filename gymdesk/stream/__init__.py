"""Reading the changelog topics with aiokafka: assignment, catch-up, reconnects, snapshots."""
