"""Guided diagnosis: case playbooks, findings to ranked causes, actions, sessions."""
