"""Archivist: a contact-centre archive that can forget."""
