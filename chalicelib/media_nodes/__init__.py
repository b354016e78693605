"""The media-node registry: which nodes are alive, where they are, how loaded (written by the nodes' heartbeats)."""
