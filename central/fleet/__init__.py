"""Fleet monitor: live web page of every terminal's presence, health, backlog and commands."""
