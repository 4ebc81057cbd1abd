"""`empreinte demo`: a realistic SaaS company's year, loaded through the public API only."""
