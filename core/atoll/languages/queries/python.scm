; Python definitions. Captures: @definition.<kind> on the whole node, @name on its name.
; (This grammar has no expression_statement node: assignments sit directly in blocks.)
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
(module (assignment left: (identifier) @name) @definition.variable)
(class_definition body: (block (assignment left: (identifier) @name) @definition.field))
