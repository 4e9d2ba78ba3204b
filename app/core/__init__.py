"""Infrastructure every room stands on: settings, the database and its embedded cluster,
migrations, the error hierarchy, the upload store, the declarative base and the audit log."""
