"""Intake paths from outside systems (MQTT cameras and sensors, ...): each feeds the writer."""
