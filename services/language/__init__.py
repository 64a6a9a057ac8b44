"""What the service says and reads in English and Welsh: its own messages, dates and times
as a victim reads them, and matching free text against lists of words."""
