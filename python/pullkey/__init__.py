"""pullkey: which registry credentials open this image? (placeholder, filled by integration)"""
