;;; papercycle.el --- papercycle, a local AI reviewer and co-author, through Eglot -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: tex, tools, languages
;; URL: https://github.com/papercycle/papercycle

;;; Commentary:

;; Registers `papercycle lsp' with Eglot for LaTeX buffers (AUCTeX's `LaTeX-mode' and the
;; built-in `latex-mode' / `tex-mode' / `plain-tex-mode').  Review comments arrive as
;; diagnostics (Flymake); code actions come from the server (`eglot-code-actions').
;;
;; Commands: `papercycle-review', `papercycle-review-section', `papercycle-draft',
;; `papercycle-cancel', `papercycle-status', `papercycle-accept-draft',
;; `papercycle-reject-draft'.  A draft streams into the side buffer *papercycle draft*; when
;; it is complete the server's edit is held there until you accept (C-c C-c) or reject
;; (C-c C-k) it: an accepted draft is applied without Eglot's "Server wants to edit ...
;; Proceed?" prompt.  Progress shows in the mode line.
;;
;;   (require 'papercycle)
;;   (papercycle-setup)
;;   (add-hook 'LaTeX-mode-hook #'eglot-ensure)  ; AUCTeX
;;   (add-hook 'latex-mode-hook #'eglot-ensure)  ; built-in

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'eglot)
(require 'jsonrpc)

;; Eglot 1.9 (Emacs 28) names the confirmation `eglot-confirm-server-initiated-edits', newer
;; Eglot `eglot-confirm-server-edits': both are bound to nil for an accepted draft.
(defvar eglot-confirm-server-edits)

(defgroup papercycle nil
  "A local AI reviewer and co-author for LaTeX papers."
  :group 'tools
  :prefix "papercycle-")

(defcustom papercycle-command '("papercycle" "lsp")
  "The language server's command line (stdio)."
  :type '(repeat string))

(defcustom papercycle-settings nil
  "The `papercycle' settings section, as a plist.
Sent as initializationOptions and answered to workspace/configuration, e.g.
  (:models (:reviewer \"deepreviewer-7b\") :checkFrequency \"save\")"
  :type 'plist)

(defcustom papercycle-modes
  '((LaTeX-mode :language-id "latex")
    (latex-mode :language-id "latex")
    (tex-mode :language-id "latex")
    (plain-TeX-mode :language-id "tex")
    (plain-tex-mode :language-id "tex"))
  "The major modes papercycle serves, with the LSP language id of each."
  :type 'sexp)

(defclass papercycle-eglot-server (eglot-lsp-server) ()
  :documentation "The papercycle language server.")

(defun papercycle--contact (&optional _interactive)
  "The Eglot contact for `papercycle-command'."
  `(papercycle-eglot-server ,@papercycle-command
                            :initializationOptions ,(or papercycle-settings (make-hash-table))))

;;;###autoload
(defun papercycle-setup ()
  "Register the papercycle server with Eglot for `papercycle-modes'."
  (interactive)
  (setq eglot-server-programs
        (cons (cons papercycle-modes #'papercycle--contact)
              (cl-remove-if (lambda (entry) (eq (cdr entry) #'papercycle--contact))
                            eglot-server-programs)))
  (unless (member '(:eval (papercycle-mode-line)) mode-line-misc-info)
    (push '(:eval (papercycle-mode-line)) mode-line-misc-info)))

(defun papercycle--server ()
  "The papercycle server managing the current buffer, or an error."
  (let ((server (eglot-current-server)))
    (unless (and server (cl-typep server 'papercycle-eglot-server))
      (user-error "papercycle: no papercycle server for this buffer (M-x eglot)"))
    server))

;;; Capabilities, configuration, progress

(cl-defmethod eglot-client-capabilities ((_server papercycle-eglot-server))
  "Eglot's capabilities, with work done progress."
  (let ((caps (cl-call-next-method)))
    (plist-put caps :window (list :workDoneProgress t))))

(cl-defmethod eglot-handle-request
  ((_server papercycle-eglot-server) (_method (eql workspace/configuration)) &key items)
  "Answer the `papercycle' section from `papercycle-settings'."
  (apply #'vector
         (mapcar (lambda (item)
                   (if (equal (plist-get item :section) "papercycle")
                       (or papercycle-settings (make-hash-table))
                     nil))
                 items)))

(cl-defmethod eglot-handle-request
  ((_server papercycle-eglot-server) (_method (eql window/workDoneProgress/create)) &key _token)
  "Accept a progress token."
  nil)

(defvar papercycle--progress (make-hash-table :test 'equal)
  "Progress token -> (TITLE MESSAGE PERCENTAGE).")

(defvar papercycle-progress-seen nil
  "Non-nil once any papercycle progress was reported (tests read it).")

(cl-defmethod eglot-handle-notification
  ((_server papercycle-eglot-server) (_method (eql $/progress)) &key token value)
  "Keep the latest progress of each token for the mode line."
  (setq papercycle-progress-seen t)
  (let ((key (format "%s" token))
        (kind (plist-get value :kind)))
    (if (equal kind "end")
        (remhash key papercycle--progress)
      (let ((old (gethash key papercycle--progress)))
        (puthash key (list (or (plist-get value :title) (nth 0 old))
                           (or (plist-get value :message) (nth 1 old))
                           (or (plist-get value :percentage) (nth 2 old)))
                 papercycle--progress))))
  (force-mode-line-update t))

(defun papercycle-mode-line ()
  "Papercycle's running work, for the mode line (\"\" when idle)."
  (let (parts)
    (maphash (lambda (_ entry)
               (cl-destructuring-bind (title message percentage) entry
                 (push (concat (string-remove-prefix "papercycle: " (or title "papercycle"))
                               (if percentage (format " %s%%" percentage) "")
                               (if (and message (not (string-empty-p message)))
                                   (concat " " message) ""))
                       parts)))
             papercycle--progress)
    (when papercycle--draft
      (push (if (plist-get papercycle--draft :edit) "draft ready" "drafting") parts))
    (if parts (concat " [papercycle: " (string-join (nreverse parts) " · ") "]") "")))

;;; Drafts

(defvar papercycle--draft nil
  "The draft being streamed or previewed: a plist (:id :uri :section :text :done :edit).")

(defconst papercycle-draft-buffer "*papercycle draft*")

(defvar papercycle-draft-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-c C-c") #'papercycle-accept-draft)
    (define-key map (kbd "C-c C-k") #'papercycle-reject-draft)
    map)
  "Keys of the draft preview.")

(define-derived-mode papercycle-draft-mode special-mode "papercycle-draft"
  "The preview of a papercycle draft: C-c C-c inserts it, C-c C-k drops it.")

(defun papercycle--render-draft ()
  "Show `papercycle--draft' in the side buffer."
  (let ((draft papercycle--draft))
    (with-current-buffer (get-buffer-create papercycle-draft-buffer)
      (papercycle-draft-mode)
      (let ((inhibit-read-only t))
        (erase-buffer)
        (if (null draft)
            (insert "No draft.\n")
          (insert (propertize (format "Draft of %s — %s\n"
                                      (plist-get draft :section)
                                      (cond ((plist-get draft :cancelled) "cancelled")
                                            ((plist-get draft :edit)
                                             "C-c C-c: insert it, C-c C-k: drop it")
                                            ((plist-get draft :done) "done")
                                            (t "streaming…")))
                              'face 'bold)
                  "\n"
                  (or (plist-get draft :final) (plist-get draft :text) "")))))
    (unless noninteractive
      (display-buffer papercycle-draft-buffer
                      '((display-buffer-in-side-window) (side . right) (window-width . 0.4))))))

(cl-defmethod eglot-handle-notification
  ((_server papercycle-eglot-server) (_method (eql papercycle/draft))
   &key id uri section chunk done cancelled &allow-other-keys)
  "Stream a draft into the side buffer."
  (unless (equal (plist-get papercycle--draft :id) id)
    (setq papercycle--draft (list :id id :uri uri :section section :text "")))
  (setq papercycle--draft
        (plist-put papercycle--draft :text (concat (plist-get papercycle--draft :text) chunk)))
  (when (eq done t)
    (setq papercycle--draft (plist-put papercycle--draft :done t))
    (when (eq cancelled t)
      (setq papercycle--draft (plist-put papercycle--draft :cancelled t))))
  (papercycle--render-draft))

(defun papercycle--first-edit (edit)
  "The (URI VERSION TEXT-EDIT) of the first text edit of the WorkspaceEdit EDIT."
  (let ((changes (append (plist-get edit :documentChanges) nil)))
    (if changes
        (let ((change (car changes)))
          (list (plist-get (plist-get change :textDocument) :uri)
                (plist-get (plist-get change :textDocument) :version)
                (aref (plist-get change :edits) 0)))
      (let ((map (plist-get edit :changes)))
        (list (substring (symbol-name (car map)) 1) nil (aref (cadr map) 0))))))

(cl-defmethod eglot-handle-request
  ((_server papercycle-eglot-server) (_method (eql workspace/applyEdit)) &key label edit)
  "Hold a finished draft for the user's decision; other edits as Eglot does."
  (if (and (stringp label) (string-prefix-p "papercycle: draft of " label))
      (cl-destructuring-bind (uri _version text-edit) (papercycle--first-edit edit)
        (unless (and papercycle--draft (plist-get papercycle--draft :done)
                     (not (plist-get papercycle--draft :edit)))
          (setq papercycle--draft
                (list :id label :uri uri :done t
                      :section (string-remove-prefix "papercycle: draft of " label))))
        (setq papercycle--draft
              (plist-put (plist-put papercycle--draft :edit edit)
                         :final (plist-get text-edit :newText)))
        (papercycle--render-draft)
        (message "papercycle: draft of %s ready: C-c C-c in %s inserts it"
                 (plist-get papercycle--draft :section) papercycle-draft-buffer)
        (list :applied :json-false
              :failureReason "held for the user's review (papercycle preview)"))
    (cl-call-next-method)))

(defun papercycle-accept-draft ()
  "Insert the previewed draft (the server's edit), with no confirmation prompt."
  (interactive)
  (let ((edit (plist-get papercycle--draft :edit)))
    (unless edit (user-error "papercycle: no draft to accept"))
    (condition-case err
        (let ((eglot-confirm-server-initiated-edits nil)
              (eglot-confirm-server-edits nil))
          (eglot--apply-workspace-edit edit nil)
          (message "papercycle: draft of %s inserted (not saved)"
                   (plist-get papercycle--draft :section))
          (setq papercycle--draft nil)
          (papercycle--close-preview)
          t)
      (error
       (message "papercycle: draft not inserted: %s (the text changed? ask again)"
                (error-message-string err))
       nil))))

(defun papercycle-reject-draft ()
  "Drop the previewed draft."
  (interactive)
  (setq papercycle--draft nil)
  (papercycle--close-preview)
  (message "papercycle: draft dropped"))

(defun papercycle--close-preview ()
  (let ((buffer (get-buffer papercycle-draft-buffer)))
    (when buffer
      (let ((window (get-buffer-window buffer)))
        (when (and window (not noninteractive)) (delete-window window)))
      (kill-buffer buffer)))
  (force-mode-line-update t))

;;; Commands

(defvar papercycle-last-result nil
  "The last answer of a papercycle command (tests read it).")

(defun papercycle--execute (command arguments &optional on-result)
  "Run the server COMMAND with ARGUMENTS asynchronously (drafts and reviews take long)."
  (let ((server (papercycle--server)))
    (jsonrpc-async-request
     server :workspace/executeCommand
     (list :command command :arguments (apply #'vector arguments))
     :success-fn (lambda (result)
                   (setq papercycle-last-result result)
                   (when on-result (funcall on-result result)))
     :error-fn (lambda (err)
                 (message "papercycle: %s failed: %s" command (plist-get err :message)))
     :timeout 3600)))

(defun papercycle--uri ()
  (plist-get (eglot--TextDocumentIdentifier) :uri))

(defun papercycle-review ()
  "Review the whole paper now (sections, then the paper)."
  (interactive)
  (papercycle--execute "papercycle.reviewDocument" (list (papercycle--uri))))

(defun papercycle-review-section ()
  "Review the section at point now."
  (interactive)
  (papercycle--execute "papercycle.reviewSection"
                       (list (papercycle--uri) (eglot--pos-to-lsp-position))))

(defun papercycle-draft ()
  "Draft the section at point: streamed into *papercycle draft*, then accept or reject."
  (interactive)
  (setq papercycle--draft nil)
  (papercycle--execute "papercycle.draftSection"
                       (list (papercycle--uri) (eglot--pos-to-lsp-position))))

(defun papercycle-cancel ()
  "Cancel papercycle's running reviews and drafts in this window."
  (interactive)
  (papercycle--execute "papercycle.cancel" nil
                       (lambda (result)
                         (message "papercycle: cancelled %s"
                                  (or (append (plist-get result :cancelled) nil) "nothing")))))

(defun papercycle-status ()
  "Show the daemon's and this window's status."
  (interactive)
  (papercycle--execute "papercycle.showStatus" nil))

(provide 'papercycle)
;;; papercycle.el ends here
