"""The audit log is not in the Django admin: auditors search it in the workbench, where
every search is itself recorded (the admin's list would let them look unrecorded)."""
