"""warroom: a terminal console for the war room of a production incident."""

__version__ = "0.1.0"
