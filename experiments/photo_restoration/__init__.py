"""Non-blind restoration of the camera-realistic photos with their true kernels."""
