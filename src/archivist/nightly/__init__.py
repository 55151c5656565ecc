"""The nightly job, on the top floor: it runs every domain's night step under the solution's lease."""
