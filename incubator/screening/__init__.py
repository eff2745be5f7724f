"""资格审查 (screening): the staff list of submitted applications, decisions, batch pass, export."""
