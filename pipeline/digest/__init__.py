"""The daily digest: collect a day's articles, build and rank stories, render, deliver.

``model`` holds the values, ``collect`` reads one day from the database, ``build`` chooses and
ranks the stories, ``render`` writes text, HTML and JSON, ``mailer`` builds and sends the MIME
message, ``deliver`` writes the files and sends once per recipient.
"""
