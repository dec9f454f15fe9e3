"""Camera layer: frame source, face detection, quality, verification, liveness."""
