"""WebRTC API (`/webrtc/1/...`): tokens for SDK users; more with the media plane."""
