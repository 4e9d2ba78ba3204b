"""Excel intake: parsing and validation of candidacy workbooks. Pure: no database."""
