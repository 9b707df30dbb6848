;;; emacs_package.el --- batch test of editors/emacs/papercycle.el -*- lexical-binding: t; -*-
;; Run by tests/editors/test_editors_emacs.py: `emacs --batch -q -l emacs_package.el'.
;; Opens the paper in latex-mode, connects Eglot (eglot-ensure does not fire in batch) through
;; papercycle's registration, waits for Flymake diagnostics, runs a code action through
;; `eglot-code-actions' (its completing-read answered here), drafts a section (side buffer,
;; accepted with no confirmation prompt), rejects a second draft, saves.

(require 'cl-lib)
(require 'json)

(defvar pc-result (make-hash-table :test 'equal))
(defvar pc-steps nil)
(defvar pc-messages nil)
(defvar pc-prompts nil)

(defun pc-put (key value) (puthash key value pc-result))

(defun pc-finish ()
  (pc-put "steps" (vconcat (reverse pc-steps)))
  (pc-put "messages" (vconcat (reverse pc-messages)))
  (pc-put "prompts" (vconcat (reverse pc-prompts)))
  (with-temp-file (getenv "PC_OUT")
    (insert (json-encode pc-result)))
  (kill-emacs 0))

(defun pc-wait (timeout predicate what)
  "Process events until PREDICATE is non-nil, at most TIMEOUT seconds."
  (let ((deadline (+ (float-time) timeout)) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.1))
    (or value (error "Timed out waiting for %s" what))))

(advice-add 'message :before
            (lambda (fmt &rest args)
              (when fmt (push (apply #'format-message fmt args) pc-messages))))
;; Any confirmation prompt is recorded and answered "no": an accepted draft must not ask.
(advice-add 'y-or-n-p :override (lambda (prompt) (push prompt pc-prompts) nil))
(advice-add 'yes-or-no-p :override (lambda (prompt) (push prompt pc-prompts) nil))

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
            '(:models (:section "tiny-section" :researcher "tiny-researcher")))
      (papercycle-setup)
      (setq eglot-sync-connect 30)
      (find-file (getenv "PC_PAPER"))
      (pc-put "mode" (symbol-name major-mode))
      (apply #'eglot (eglot--guess-contact))
      (pc-wait 60 #'eglot-current-server "the server")
      (pc-put "server_class" (symbol-name (eieio-object-class (eglot-current-server))))
      (push "connected" pc-steps)
      (flymake-start)
      (cl-flet ((review-diags ()
                  (cl-remove-if-not
                   (lambda (d)
                     (let ((lsp (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d)))))
                       (and lsp (not (member (plist-get lsp :code)
                                             '("hidden-injection" "hidden-text"))))))
                   (flymake-diagnostics))))
        (pc-wait 180 (lambda () (flymake-start) (review-diags)) "diagnostics")
        (let* ((diags (review-diags))
               (target (car diags)))
          (pc-put "diagnostics" (length diags))
          (pc-put "diagnostic_lines"
                  (vconcat (mapcar (lambda (d) (1- (line-number-at-pos (flymake-diagnostic-beg d))))
                                   diags)))
          (push "diagnostics" pc-steps)
          ;; a code action, as M-x eglot-code-actions offers them
          (let (titles)
            (cl-letf (((symbol-function 'completing-read)
                       (lambda (_prompt collection &rest _)
                         (setq titles (mapcar #'car collection))
                         (pc-put "actions" (vconcat titles))
                         (cl-find-if (lambda (title)
                                       (equal title (format "Dismiss this comment (%s)"
                                                            (plist-get (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data target))) :code))))
                                     titles))))
              ;; as from the keyboard (a mouse event would pop up a menu instead)
              (setq last-nonmenu-event ?a)
              (eglot-code-actions (flymake-diagnostic-beg target) (flymake-diagnostic-end target)
                                  nil t))
            (pc-put "actions" (vconcat titles)))
          (cl-flet ((shown (d) (cl-some (lambda (other)
                                          (equal (plist-get (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data other))) :message)
                                                 (plist-get (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d))) :message)))
                                        (review-diags))))
            (pc-wait 30 (lambda () (flymake-start) (not (shown target)))
                     "the dismissed comment to go")
            (pc-put "dismissed_gone" t))
          (push "code action" pc-steps)))
      ;; a draft: streamed into the side buffer, held, accepted with no prompt
      (goto-char (point-min))
      (re-search-forward "^\\\\section{Method}")
      (forward-line 1)
      (let ((before (buffer-string))
            (paper-buffer (current-buffer)))
        (papercycle-draft)
        (pc-wait 240 (lambda () (plist-get papercycle--draft :edit)) "a draft offered")
        (pc-put "streamed" (length (or (plist-get papercycle--draft :text) "")))
        (pc-put "draft_text" (plist-get papercycle--draft :final))
        (pc-put "preview"
                (with-current-buffer papercycle-draft-buffer (buffer-string)))
        (pc-put "mode_line" (papercycle-mode-line))
        (pc-put "unchanged_while_previewing"
                (if (equal before (with-current-buffer paper-buffer (buffer-string))) t :json-false))
        (push "preview" pc-steps)
        (with-current-buffer papercycle-draft-buffer (papercycle-accept-draft))
        (with-current-buffer paper-buffer
          (pc-put "accepted" (if (equal before (buffer-string)) :json-false t))
          (pc-put "buffer" (buffer-string)))
        (pc-put "preview_closed" (if (get-buffer papercycle-draft-buffer) :json-false t))
        (push "accepted" pc-steps)
        ;; a second draft, rejected
        (with-current-buffer paper-buffer
          (let ((after (buffer-string)))
            ;; another section (Method grew by the accepted draft)
            (goto-char (point-min))
            (re-search-forward "^\\\\section{Experiments}")
            (forward-line 1)
            (papercycle-draft)
            (pc-wait 120 (lambda () (plist-get papercycle--draft :edit)) "a second draft")
            (papercycle-reject-draft)
            (pc-put "rejected_unchanged" (if (equal after (buffer-string)) t :json-false))))
        (push "rejected" pc-steps)
        (pc-put "progress_seen" (if papercycle-progress-seen t :json-false))
        (with-current-buffer paper-buffer (save-buffer))
        (push "saved" pc-steps)
        (ignore-errors (eglot-shutdown (eglot-current-server)))))
  (error (pc-put "error" (format "%S" err))
         (ignore-errors
           (pc-put "events" (with-current-buffer (jsonrpc-events-buffer (eglot-current-server))
                              (buffer-substring-no-properties (max (point-min) (- (point-max) 6000)) (point-max)))))))
(pc-finish)
