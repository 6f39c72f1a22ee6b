"""The Gradio app's own parts (app.py builds the page): the owner's review queue (`review`),
thumbnails and the guard that serves them (`tiles`), and uploads (`uploads`)."""
