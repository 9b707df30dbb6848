;;; emacs_e2e.el --- headless Emacs 28 + Eglot 1.9 against `papercycle lsp' -*- lexical-binding: t -*-
;; Opens the paper, connects Eglot explicitly (eglot-ensure does not fire in batch mode), waits
;; for papercycle's diagnostics, asks for code actions on one and runs "Dismiss this comment"
;; the way Eglot's code action menu does (workspace/executeCommand), then writes what it saw.
(let ((eglot-dir (car (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa*/eglot-*"))))
  (when eglot-dir (add-to-list 'load-path eglot-dir)))
(dolist (dir (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa*/*"))
  (add-to-list 'load-path dir))
(require 'json)
(require 'eglot)
(setq eglot-confirm-server-initiated-edits nil)

(defvar pc-result (list (cons 'started t)))

(defun pc-review-diags ()
  (cl-loop for d in eglot--diagnostics
           for spec = (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d)))
           when (and spec (equal (plist-get spec :source) "papercycle")
                     (member (plist-get (plist-get spec :data) :origin) '("section" "paper")))
           collect d))

(defun pc-wait (pred seconds)
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.1))
    (funcall pred)))

(defun pc-finish (out)
  (with-temp-file out (insert (json-encode pc-result)))
  (kill-emacs 0))

(let* ((paper (getenv "PC_PAPER"))
       (out (getenv "PC_OUT"))
       (python (getenv "PC_PYTHON")))
  (condition-case err
      (with-current-buffer (find-file-noselect paper)
        (latex-mode)
        (eglot '(latex-mode) (cons 'transient (file-name-directory paper)) 'eglot-lsp-server
               (list python "-m" "papercycle.cli" "lsp" "--stdio") "latex")
        (unless (pc-wait (lambda () (eglot-current-server)) 60) (error "no server"))
        (unless (pc-wait (lambda () (pc-review-diags)) 180) (error "no diagnostics"))
        (let* ((diags (pc-review-diags))
               (target (car diags))
               (server (eglot-current-server))
               (actions (eglot-code-actions (flymake-diagnostic-beg target)
                                            (flymake-diagnostic-end target)))
               (dismiss (cl-find-if (lambda (a) (string-prefix-p "Dismiss this comment"
                                                                 (plist-get a :title)))
                                    actions)))
          (push (cons 'diagnostics (length diags)) pc-result)
          (push (cons 'actions (vconcat (mapcar (lambda (a) (plist-get a :title)) actions)))
                pc-result)
          (unless dismiss (error "no dismiss action"))
          ;; what Eglot does with a chosen CodeAction: apply its edit, run its command
          (when (plist-get dismiss :edit) (eglot--apply-workspace-edit (plist-get dismiss :edit)))
          (let ((command (plist-get dismiss :command)))
            (eglot-execute-command server (intern (plist-get command :command))
                                   (plist-get command :arguments)))
          (push (cons 'executed t) pc-result)
          (pc-wait (lambda () (< (length (pc-review-diags)) (length diags))) 30)
          (push (cons 'after (length (pc-review-diags))) pc-result)))
    (error (push (cons 'error (format "%S" err)) pc-result)))
  (pc-finish out))
