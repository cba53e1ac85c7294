"""netcase: a helpdesk engineer's workbench for network incidents."""

__version__ = "0.1.0"
