"""The Textual face of netcase."""
