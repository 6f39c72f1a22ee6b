"""The Gradio app: `python app.py` (a Hugging Face Space starts this file). The app itself is
webapp/app.py; installed as a package, `photo-search-app` starts the same."""

import sys

from webapp.app import main

if __name__ == "__main__":
    sys.exit(main())
