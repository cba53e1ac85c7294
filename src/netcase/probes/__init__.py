"""Live measurements of the network the user is on; they know nothing of cases."""
