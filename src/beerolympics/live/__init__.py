"""Live updates: channels, batching, resume and presence, over WebSocket and SSE."""
