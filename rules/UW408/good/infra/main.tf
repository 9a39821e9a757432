resource "aws_ecs_task_definition" "app" {
  family = "app"
  memory = 1024
  container_definitions = jsonencode([
    {
      name         = "web"
      image        = "example/app:1"
      command      = ["uwsgi", "--ini", "/app/uwsgi.ini"]
      portMappings = [{ containerPort = 8000 }]
    }
  ])
}

resource "aws_lb" "web" {
  name         = "web"
  idle_timeout = 60
}

resource "aws_lb_target_group" "app" {
  port     = 8000
  protocol = "HTTP"
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.web.arn
  port              = 80
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

resource "aws_ecs_service" "app" {
  task_definition = aws_ecs_task_definition.app.arn
  load_balancer {
    target_group_arn = aws_lb_target_group.app.arn
    container_name   = "web"
    container_port   = 8000
  }
}
