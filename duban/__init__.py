"""The application shell: the ``duban`` command line, the main job, and (later) the scheduler
and notification channels. It calls into flows, domain rules, the catalogue and the models."""
