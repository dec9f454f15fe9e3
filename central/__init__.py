"""Reference central system and fleet monitor; talks to kiosks only over MQTT."""
