"""Small pieces every layer uses: user-facing errors, atomic writes, taming untrusted text."""
