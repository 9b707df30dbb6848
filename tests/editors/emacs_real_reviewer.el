;;; emacs_real_reviewer.el --- the README's real-reviewer steps in Emacs -*- lexical-binding: t; -*-
;; Run by tests/editors/test_editors_real_reviewer.py: `emacs --batch -q -l emacs_real_reviewer.el'.
;; papercycle.el with the real SmolLM2 as the reviewer (deepreviewer format), the default
;; reviewMode; waits for review diagnostics (Flymake) or window messages about reviews (Eglot
;; shows window/showMessage with `message'), and writes what it saw: each diagnostic with the
;; buffer text of its range, and every message.

(require 'cl-lib)
(require 'json)

(defvar pc-result (make-hash-table :test 'equal))
(defvar pc-messages nil)

(defun pc-put (key value) (puthash key value pc-result))

(advice-add 'message :before
            (lambda (fmt &rest args)
              (when fmt (push (apply #'format-message fmt args) pc-messages))))

(defun pc-review-messages ()
  (cl-remove-if-not (lambda (m) (string-match-p "papercycle: .*review" m)) pc-messages))

(condition-case err
    (progn
      (unless (locate-library "eglot")
        (dolist (dir (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))
          (add-to-list 'load-path dir)))
      (add-to-list 'load-path (getenv "PC_PACKAGE"))
      (require 'papercycle)
      (setq papercycle-command
            (list (getenv "PC_PYTHON") "-m" "papercycle.cli" "lsp" "--stdio"))
      (setq papercycle-settings
            (list :models (list :reviewer (getenv "PC_MODEL") :section (getenv "PC_MODEL"))))
      (papercycle-setup)
      (setq eglot-sync-connect 30)
      (find-file (getenv "PC_PAPER"))
      (apply #'eglot (eglot--guess-contact))
      (let ((deadline (+ (float-time) 60)))
        (while (and (not (eglot-current-server)) (< (float-time) deadline))
          (accept-process-output nil 0.1)))
      (unless (eglot-current-server) (error "Timed out waiting for the server"))
      (flymake-start)
      (cl-flet ((review-diags ()
                  (cl-remove-if-not
                   (lambda (d)
                     (let ((lsp (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d)))))
                       (and lsp (not (member (plist-get lsp :code)
                                             '("hidden-injection" "hidden-text"))))))
                   (flymake-diagnostics))))
        (let ((deadline (+ (float-time) 400)))
          (while (and (not (review-diags))
                      (< (length (pc-review-messages)) 3)
                      (< (float-time) deadline))
            (flymake-start)
            (accept-process-output nil 0.2)))
        (pc-put "waited_for" "review diagnostics, or three window messages about reviews")
        (pc-put "outcome_seen" (if (or (review-diags) (>= (length (pc-review-messages)) 3))
                                   t :json-false))
        (pc-put "diagnostics"
                (vconcat
                 (mapcar (lambda (d)
                           (list (cons "message" (flymake-diagnostic-text d))
                                 (cons "text" (buffer-substring-no-properties
                                               (flymake-diagnostic-beg d)
                                               (flymake-diagnostic-end d)))))
                         (review-diags))))))
  (error (pc-put "error" (error-message-string err))))

(pc-put "messages" (vconcat (reverse pc-messages)))
(with-temp-file (getenv "PC_OUT")
  (insert (json-encode pc-result)))
(kill-emacs 0)
